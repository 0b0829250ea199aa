// Asserting SLMError codes.
import { expect } from 'vitest';
import { SLMError, type SLMErrorCode } from '../../src/index.js';

/** Runs `run` and asserts it throws an SLMError with `code` (and a message matching `message`). */
export function expectSLMError(run: () => unknown, code: SLMErrorCode, message?: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SLMError);
  expect((caught as SLMError).code).toBe(code);
  expect((caught as SLMError).name).toBe('SLMError');
  if (message !== undefined) expect((caught as SLMError).message).toMatch(message);
}
