/**
 * Typed events. The library reports what it does through events; only `cli/` prints or logs.
 *
 * `Emitter<M>` is a tiny synchronous typed emitter over an event map `M` (event name → payload). Layers declare
 * their own maps (`CoreEvents` here, `LlmEvents` in `llm/`) and a higher layer combines them by intersection.
 */
export type EventMap = Record<string, unknown>;
export type Listener<P> = (payload: P) => void;

export class Emitter<M extends EventMap> {
  private readonly listeners = new Map<keyof M, Set<Listener<never>>>();

  /** Subscribe; returns the function that unsubscribes. */
  on<K extends keyof M>(type: K, listener: Listener<M[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /**
   * Deliver synchronously to every listener, in subscription order. If listeners throw, the others still run and
   * the first error is rethrown afterwards: a broken observer is a bug to surface, not to swallow.
   */
  emit<K extends keyof M>(type: K, payload: M[K]): void {
    const set = this.listeners.get(type);
    if (!set) return;
    let failure: { error: unknown } | undefined;
    for (const listener of [...set]) {
      try {
        (listener as Listener<M[K]>)(payload);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  listenerCount(type: keyof M): number {
    return this.listeners.get(type)?.size ?? 0;
  }
}
