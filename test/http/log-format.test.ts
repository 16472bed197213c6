import { describe, expect, it } from 'vitest';
import { logFormat } from '../../src/http/logger.js';

describe('logFormat', () => {
  it('is pretty only on a terminal unless set', () => {
    expect(logFormat('auto', true)).toBe('pretty');
    expect(logFormat('auto', false)).toBe('json');
    expect(logFormat('json', true)).toBe('json');
    expect(logFormat('pretty', false)).toBe('pretty');
  });
});
