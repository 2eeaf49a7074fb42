// The node's event bus (CometBFT's pubsub): publishers hand over an event type, its data (built
// lazily, once, and only if someone listens) and its ABCI events; subscribers hold a parsed query
// and get every message whose flattened events it matches. Each subscription has a bounded queue
// drained off the publisher's call stack, so a publisher (consensus, block execution) never
// waits for a subscriber, and a subscriber that falls behind is cancelled with a reason instead
// of growing memory.
import type { Json } from '../codec/index.js';
import { MAX_QUERY_LENGTH, QuerySyntaxError, flattenEvents, formatQuery, matchesEvents, parseQuery, type EventLike, type EventMap, type Query } from '../query/index.js';

export type EventBusErrorCode = 'invalid_query' | 'too_many_clients' | 'too_many_subscriptions' | 'already_subscribed' | 'not_subscribed' | 'stopped';

export class EventBusError extends Error {
  override readonly name = 'EventBusError';
  constructor(
    readonly code: EventBusErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** One published event as subscribers see it. */
export interface BusMessage {
  /** The tm.event value, e.g. "NewBlock". */
  readonly type: string;
  /** Flattened events ("type.attr" → values), tm.event included: what queries match and what RPC sends. */
  readonly events: EventMap;
  /** The event data in CometBFT's JSON form ({type: "tendermint/event/…", value}); built once. */
  data(): Json;
}

export interface SubscriberHandlers {
  /** Called for each matching message, in publish order, never from inside publish(). */
  deliver(message: BusMessage): void;
  /** Called once when the bus ends the subscription (slow subscriber, bus stopped); not on unsubscribe. */
  canceled(reason: string): void;
}

export interface EventBusOptions {
  /** Distinct clients with at least one subscription (CometBFT max_subscription_clients). */
  readonly maxClients: number;
  /** Subscriptions per client (CometBFT max_subscriptions_per_client). */
  readonly maxSubscriptionsPerClient: number;
  /** Messages a subscription may have waiting; one more cancels it as too slow. */
  readonly bufferSize: number;
}

export const DEFAULT_EVENT_BUS_OPTIONS: EventBusOptions = Object.freeze({ maxClients: 100, maxSubscriptionsPerClient: 5, bufferSize: 10_000 });

export class Subscription {
  private queue: BusMessage[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    readonly clientId: string,
    /** The query in canonical form (what unsubscribe matches on). */
    readonly key: string,
    readonly query: Query,
    private readonly handlers: SubscriberHandlers,
    private readonly bufferSize: number,
    private readonly onCancel: (s: Subscription) => void,
  ) {}

  get active(): boolean {
    return !this.closed;
  }

  /** Queued messages not yet delivered. */
  get pending(): number {
    return this.queue.length;
  }

  /** Called by the bus; returns at once. */
  offer(m: BusMessage): void {
    if (this.closed) return;
    if (this.queue.length >= this.bufferSize) {
      this.cancel(`slow client: ${this.bufferSize} events waiting to be delivered`);
      return;
    }
    this.queue.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) {
      if (this.closed) return;
      try {
        this.handlers.deliver(m);
      } catch (e) {
        this.cancel(`delivery failed: ${(e as Error).message}`);
        return;
      }
    }
  }

  /** Ends the subscription on the bus's initiative and tells the subscriber why. */
  cancel(reason: string): void {
    if (this.closed) return;
    this.close();
    this.onCancel(this);
    try {
      this.handlers.canceled(reason);
    } catch {
      // the subscriber is going away anyway
    }
  }

  /** Ends it silently (unsubscribe). */
  close(): void {
    this.closed = true;
    this.queue = [];
  }
}

export class EventBus {
  private readonly clients = new Map<string, Map<string, Subscription>>();
  private stopped = false;
  private readonly opts: EventBusOptions;

  constructor(opts: Partial<EventBusOptions> = {}) {
    this.opts = { ...DEFAULT_EVENT_BUS_OPTIONS, ...opts };
  }

  /** Parses and checks a query as subscriptions and unsubscriptions need it. */
  static parse(queryText: string): Query {
    if (queryText.length > MAX_QUERY_LENGTH) throw new EventBusError('invalid_query', `maximum query length (${MAX_QUERY_LENGTH}) exceeded`);
    try {
      return parseQuery(queryText);
    } catch (e) {
      if (e instanceof QuerySyntaxError) throw new EventBusError('invalid_query', `failed to parse query: ${e.message}`);
      throw e;
    }
  }

  subscribe(clientId: string, queryText: string, handlers: SubscriberHandlers): Subscription {
    if (this.stopped) throw new EventBusError('stopped', 'the event bus is stopped');
    const query = EventBus.parse(queryText);
    const key = formatQuery(query);
    let subs = this.clients.get(clientId);
    if (!subs && this.clients.size >= this.opts.maxClients) throw new EventBusError('too_many_clients', `max_subscription_clients ${this.opts.maxClients} reached`);
    if (subs && subs.size >= this.opts.maxSubscriptionsPerClient)
      throw new EventBusError('too_many_subscriptions', `max_subscriptions_per_client ${this.opts.maxSubscriptionsPerClient} reached`);
    if (subs?.has(key)) throw new EventBusError('already_subscribed', 'already subscribed');
    if (!subs) this.clients.set(clientId, (subs = new Map()));
    const sub = new Subscription(clientId, key, query, handlers, this.opts.bufferSize, (s) => this.remove(s));
    subs.set(key, sub);
    return sub;
  }

  unsubscribe(clientId: string, queryText: string): void {
    const key = formatQuery(EventBus.parse(queryText));
    const sub = this.clients.get(clientId)?.get(key);
    if (!sub) throw new EventBusError('not_subscribed', 'subscription not found');
    sub.close();
    this.remove(sub);
  }

  unsubscribeAll(clientId: string): void {
    const subs = this.clients.get(clientId);
    if (!subs) throw new EventBusError('not_subscribed', 'subscription not found');
    for (const s of subs.values()) s.close();
    this.clients.delete(clientId);
  }

  private remove(s: Subscription): void {
    const subs = this.clients.get(s.clientId);
    if (subs?.get(s.key) !== s) return;
    subs.delete(s.key);
    if (subs.size === 0) this.clients.delete(s.clientId);
  }

  numClients(): number {
    return this.clients.size;
  }

  numClientSubscriptions(clientId: string): number {
    return this.clients.get(clientId)?.size ?? 0;
  }

  /** Is anyone listening at all? Lets publishers skip building event data. */
  hasSubscribers(): boolean {
    return this.clients.size > 0;
  }

  /**
   * Publish one event. `data` is called at most once, on first delivery. `abciEvents` are
   * flattened as CometBFT does; `extra` adds composite keys (tx.hash, tx.height). Returns the
   * number of subscriptions it was queued for.
   */
  publish(type: string, data: () => Json, abciEvents: readonly EventLike[] = [], extra: Readonly<Record<string, readonly string[]>> = {}): number {
    if (this.stopped || this.clients.size === 0) return 0;
    const events = flattenEvents(abciEvents, { ...extra, 'tm.event': [type] });
    let built: { value: Json } | undefined;
    const message: BusMessage = {
      type,
      events,
      data: () => (built ??= { value: data() }).value,
    };
    let n = 0;
    for (const subs of [...this.clients.values()]) {
      for (const s of [...subs.values()]) {
        if (!matchesEvents(s.query, events)) continue;
        s.offer(message);
        n++;
      }
    }
    return n;
  }

  /** Cancels every subscription (their subscribers are told why) and refuses new ones. */
  stop(reason = 'the node is shutting down'): void {
    this.stopped = true;
    for (const subs of [...this.clients.values()]) for (const s of [...subs.values()]) s.cancel(reason);
    this.clients.clear();
  }
}
