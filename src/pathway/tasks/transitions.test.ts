import type { Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { checkTaskTransition, isFinalTaskStatus, TASK_TRANSITIONS } from './transitions.js';

const STATUSES = Object.keys(TASK_TRANSITIONS) as Task['status'][];
const task = (status: Task['status']): Task => ({ resourceType: 'Task', id: 't1', status, intent: 'order' });

describe('the Task state machine', () => {
  it('covers every R4 Task status, and names only R4 statuses as targets', () => {
    expect(STATUSES.sort()).toEqual(['accepted', 'cancelled', 'completed', 'draft', 'entered-in-error', 'failed', 'in-progress', 'on-hold', 'ready', 'received', 'rejected', 'requested']);
    for (const targets of Object.values(TASK_TRANSITIONS)) for (const s of targets) expect(STATUSES).toContain(s);
  });

  it('final statuses are left only for entered-in-error, and entered-in-error never', () => {
    for (const s of ['completed', 'cancelled', 'failed', 'rejected'] as const) expect(TASK_TRANSITIONS[s]).toEqual(['entered-in-error']);
    expect(TASK_TRANSITIONS['entered-in-error']).toEqual([]);
  });

  it('every pair of statuses is allowed exactly when the table says so; keeping a status is always allowed', () => {
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        const attempt = () => checkTaskTransition(task(from), task(to));
        if (from === to || TASK_TRANSITIONS[from].includes(to)) expect(attempt).not.toThrow();
        else expect(attempt).toThrow(expect.objectContaining({ status: 409 }));
      }
    }
  });

  it('the final statuses are exactly completed, cancelled, failed, rejected and entered-in-error', () => {
    expect(STATUSES.filter(isFinalTaskStatus).sort()).toEqual(['cancelled', 'completed', 'entered-in-error', 'failed', 'rejected']);
  });

  it('a new Task may start in any status', () => {
    for (const s of STATUSES) expect(() => checkTaskTransition(undefined, task(s))).not.toThrow();
  });
});
