import fc from 'fast-check';
import { fuzzRequest } from './cases.js';
import { leak, serverError, tooSlow, wrongWrites } from './oracles.js';
import { describeRequest, type FuzzRequest } from './request.js';
import type { FuzzTarget } from './target.js';
import { writesBetween } from './write-counter.js';

/*
 * One campaign: `cases` fuzzed requests against one target, one at a time (so that the rows
 * written between two readings are the request's own), each checked by every oracle. fast-check
 * stops at the first failure and shrinks it to a small counterexample, printed with the seed and
 * path that replay it.
 */

export interface CampaignResult {
  target: string;
  cases: number;
  seconds: number;
  /** Answers by kind of request, then status. */
  statuses: Record<string, Record<string, number>>;
  slowest: { ms: number; request: string }[];
  failure?: string;
  teamB: string[];
}

const SLOWEST_KEPT = 3;

export async function runCampaign(target: FuzzTarget, cases: number, seed: number, progress: (line: string) => void): Promise<CampaignResult> {
  const statuses: Record<string, Record<string, number>> = {};
  const slowest: { ms: number; request: string }[] = [];
  let sent = 0;
  const started = performance.now();
  const property = fc.asyncProperty(fuzzRequest, async (request: FuzzRequest) => {
    const before = await target.writeCounts();
    const answer = await target.send(request);
    const writes = writesBetween(before, await target.writeCounts());
    sent++;
    const ofKind = (statuses[request.kind] ??= {});
    ofKind[answer.status] = (ofKind[answer.status] ?? 0) + 1;
    keepSlowest(slowest, answer.ms, request);
    if (sent % 10_000 === 0) progress(`${target.name}: ${sent} cases, ${rate(sent, started)} cases/s`);
    const problem = serverError(answer) ?? tooSlow(answer) ?? wrongWrites(request, answer, writes) ?? leak(request, answer);
    if (problem) throw new Error(problem);
  });
  const details = await fc.check(property, { numRuns: cases, seed, endOnFailure: false });
  const seconds = (performance.now() - started) / 1000;
  return {
    target: target.name,
    cases: sent,
    seconds,
    statuses,
    slowest,
    failure: details.failed ? `${fc.defaultReportMessage(details)}\nWhat went wrong: ${(details.errorInstance as Error | undefined)?.message ?? '?'}\nThe request, readably: ${details.counterexample ? describeRequest(details.counterexample[0], 4000) : '(none)'}` : undefined,
    teamB: await target.teamBProblems(),
  };
}

function keepSlowest(slowest: { ms: number; request: string }[], ms: number, request: FuzzRequest): void {
  if (slowest.length >= SLOWEST_KEPT && ms <= slowest[slowest.length - 1].ms) return;
  slowest.push({ ms, request: describeRequest(request, 200) });
  slowest.sort((a, b) => b.ms - a.ms);
  slowest.length = Math.min(slowest.length, SLOWEST_KEPT);
}

const rate = (n: number, started: number) => (n / ((performance.now() - started) / 1000)).toFixed(0);
