/**
 * The sender's own `meta.lastUpdated` of each resource it sent, beside the reference it used. An
 * update message carrying an older version of a resource than the sender sent before is stale
 * (BaRS: 409 REC_CONFLICT) and is refused rather than written over newer information.
 */
export const sql = `
ALTER TABLE message_reference ADD COLUMN sender_last_updated timestamptz
`;
