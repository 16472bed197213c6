// Shutdown without a listener: drained when the app closes within the grace period, forced after it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeWithin } from '../../src/ops/shutdown.js';

/** An app whose close ends when `finish` is called, or when every connection is cut. */
function slowApp() {
  let finish: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const cut = vi.fn(() => finish());
  return { app: { close: () => closed, server: { closeAllConnections: cut } }, finish, cut };
}

describe('closeWithin', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is drained when the requests in flight finish within the grace period', async () => {
    vi.useFakeTimers();
    const { app, finish, cut } = slowApp();
    const onForce = vi.fn();
    const how = closeWithin(app, 1000, onForce);
    await vi.advanceTimersByTimeAsync(400);
    finish();
    expect(await how).toBe('drained');
    await vi.advanceTimersByTimeAsync(2000);
    expect(cut).not.toHaveBeenCalled();
    expect(onForce).not.toHaveBeenCalled();
  });

  it('cuts every connection left once the grace period is over, and says so', async () => {
    vi.useFakeTimers();
    const { app, cut } = slowApp();
    const onForce = vi.fn();
    const how = closeWithin(app, 1000, onForce);
    await vi.advanceTimersByTimeAsync(999);
    expect(cut).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onForce).toHaveBeenCalledTimes(1);
    expect(cut).toHaveBeenCalledTimes(1);
    expect(await how).toBe('forced');
  });
});
