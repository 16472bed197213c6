// Shutdown of a listener: stop accepting, let requests in flight finish, and cut what is left after the grace period.

/** What closing needs of a Fastify app (and what a test can stand in for). */
export interface Closable {
  close(): Promise<unknown>;
  readonly server: { closeAllConnections(): void };
}

/**
 * Closes `app`: stops accepting, closes idle keep-alive connections and waits for requests in
 * flight (Fastify's close, with connections.ts's drain); past `graceMs`, closes every connection
 * left and calls `onForce` (`forced`). The timer never holds the process open.
 */
export async function closeWithin(
  app: Closable,
  graceMs: number,
  onForce: () => void,
): Promise<'drained' | 'forced'> {
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    onForce();
    app.server.closeAllConnections();
  }, graceMs);
  timer.unref();
  await app.close();
  clearTimeout(timer);
  return forced ? 'forced' : 'drained';
}
