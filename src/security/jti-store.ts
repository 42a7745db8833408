import type { Queryable } from '../store/database.js';

/** How often one instance deletes expired rows; any instance may, so the table stays small. */
const CLEANUP_EVERY_MS = 60_000;

/**
 * The `jti`s of client assertions already used (table auth_jti, migration 009), in the database so
 * that an assertion used at one instance is refused at every other (RFC 7523 §3 item 7; SMART
 * Backend Services: "the authorization server SHALL … check that the jti … has not been used").
 */
export class JtiStore {
  private lastCleanup = 0;

  constructor(private readonly db: () => Queryable) {}

  /**
   * Records the jti for its client; false when it was recorded already (a replay). The primary key
   * decides between two instances that see the same assertion at once: one insert wins.
   */
  async claim(clientId: string, jti: string, expiresAt: Date, now: Date): Promise<boolean> {
    await this.cleanup(now);
    const rows = await this.db().query<{ jti: string }>(
      'INSERT INTO auth_jti (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT (client_id, jti) DO NOTHING RETURNING jti',
      [clientId, jti, expiresAt.toISOString()],
      { prepare: true },
    );
    return rows.length === 1;
  }

  /** Forgets jtis whose assertions have expired: those cannot be replayed, being refused as expired. */
  private async cleanup(now: Date): Promise<void> {
    if (now.getTime() - this.lastCleanup < CLEANUP_EVERY_MS) return;
    this.lastCleanup = now.getTime();
    await this.db().query('DELETE FROM auth_jti WHERE expires_at < $1', [now.toISOString()], { prepare: true });
  }
}
