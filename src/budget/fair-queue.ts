// The order in which waiting requests get upstream budget: strict priority between tiers (a
// higher priority is always served first), and within one priority deficit round robin over
// clients, by tokens (Shreedhar & Varghese, 1995). Each round a client may send up to `quantum`
// tokens' worth of requests, so one client with a hundred queued requests cannot starve ten
// clients with one each, and a client of big requests is not starved by clients of small ones.
//
// A plain data structure without timers or I/O: the waiting room (waiting-room.ts) peeks at the
// next request, tries to get it budget, and only then takes it off with `shift`. Peeking twice
// without a change in between gives the same request.

export interface QueueClient {
  /** The caller's identity (an API key id, an address): one flow per key. */
  key: string;
  /** Higher is served first. */
  priority: number;
}

export interface Queued {
  readonly client: QueueClient;
  /** Estimated tokens: what the request takes from a round's quantum. */
  readonly cost: number;
}

interface Flow<E> {
  key: string;
  entries: E[];
  deficit: number;
  /** The flow is at the front of its round and has had this round's quantum. */
  inTurn: boolean;
}

interface Level<E> {
  priority: number;
  flows: Map<string, Flow<E>>;
  /** Flows with entries, in round-robin order; the first one's turn is now. */
  active: Array<Flow<E>>;
}

export class FairQueue<E extends Queued> {
  /** Highest priority first. */
  private readonly levels: Array<Level<E>> = [];
  private count = 0;
  private readonly perClient = new Map<string, number>();

  constructor(private readonly quantum: number) {}

  get size(): number {
    return this.count;
  }

  sizeOf(clientKey: string): number {
    return this.perClient.get(clientKey) ?? 0;
  }

  push(entry: E): void {
    const level = this.level(entry.client.priority);
    let flow = level.flows.get(entry.client.key);
    if (!flow) {
      flow = { key: entry.client.key, entries: [], deficit: 0, inTurn: false };
      level.flows.set(flow.key, flow);
      level.active.push(flow);
    }
    flow.entries.push(entry);
    this.count += 1;
    this.perClient.set(entry.client.key, this.sizeOf(entry.client.key) + 1);
  }

  /** The request to serve next, left in place. */
  peek(): E | undefined {
    for (const level of this.levels) {
      const head = this.peekLevel(level);
      if (head) return head;
    }
    return undefined;
  }

  /** Takes off the request `peek` returned, spending its cost from its client's round. */
  shift(entry: E): void {
    const { level, flow } = this.find(entry);
    if (!flow || flow.entries[0] !== entry) throw new Error('FairQueue.shift: not the request at the front');
    flow.deficit -= entry.cost;
    flow.entries.shift();
    this.counted(entry, level, flow);
  }

  /** Takes a request out wherever it is (its client left, its deadline passed); false if absent. */
  remove(entry: E): boolean {
    const { level, flow } = this.find(entry);
    const index = flow ? flow.entries.indexOf(entry) : -1;
    if (!flow || index < 0) return false;
    flow.entries.splice(index, 1);
    this.counted(entry, level, flow);
    return true;
  }

  /**
   * What will be served before a new request of `client` costing `cost`: everything at higher
   * priorities, the client's own queue, and from each other client at its priority what it may
   * send in the rounds the new request needs.
   */
  ahead(client: QueueClient, cost: number): { requests: number; tokens: number } {
    let requests = 0;
    let tokens = 0;
    for (const level of this.levels) {
      if (level.priority < client.priority) break;
      if (level.priority > client.priority) {
        for (const flow of level.active) {
          requests += flow.entries.length;
          tokens += flow.entries.reduce((sum, e) => sum + e.cost, 0);
        }
        continue;
      }
      const own = level.flows.get(client.key);
      const ownCost = own?.entries.reduce((sum, e) => sum + e.cost, 0) ?? 0;
      const rounds = Math.max(1, Math.ceil((ownCost + cost - (own?.deficit ?? 0)) / this.quantum));
      for (const flow of level.active) {
        if (flow === own) {
          requests += flow.entries.length;
          tokens += ownCost;
          continue;
        }
        let allowance = flow.deficit + rounds * this.quantum;
        for (const e of flow.entries) {
          if (e.cost > allowance) break;
          allowance -= e.cost;
          requests += 1;
          tokens += e.cost;
        }
      }
    }
    return { requests, tokens };
  }

  private peekLevel(level: Level<E>): E | undefined {
    let passed = 0;
    while (level.active.length > 0) {
      const flow = level.active[0]!;
      if (!flow.inTurn) {
        flow.deficit += this.quantum;
        flow.inTurn = true;
      }
      const head = flow.entries[0]!;
      if (head.cost <= flow.deficit) return head;
      flow.inTurn = false;
      level.active.push(level.active.shift()!);
      passed += 1;
      if (passed >= level.active.length) {
        // A whole round served nobody (every head is bigger than several quanta): give every flow
        // the rounds in which still nobody could be served at once, instead of looping through them.
        const rounds = Math.min(...level.active.map((f) => Math.ceil((f.entries[0]!.cost - f.deficit) / this.quantum))) - 1;
        if (rounds > 0) for (const f of level.active) f.deficit += rounds * this.quantum;
        passed = 0;
      }
    }
    return undefined;
  }

  private counted(entry: E, level: Level<E>, flow: Flow<E>): void {
    this.count -= 1;
    const left = this.sizeOf(entry.client.key) - 1;
    if (left > 0) this.perClient.set(entry.client.key, left);
    else this.perClient.delete(entry.client.key);
    if (flow.entries.length > 0) return;
    // An emptied flow leaves the round and forgets its deficit, as DRR prescribes: credit is not
    // saved up while idle.
    level.flows.delete(flow.key);
    level.active.splice(level.active.indexOf(flow), 1);
    if (level.flows.size === 0) this.levels.splice(this.levels.indexOf(level), 1);
  }

  private find(entry: E): { level: Level<E>; flow: Flow<E> | undefined } {
    const level = this.levels.find((l) => l.priority === entry.client.priority);
    if (!level) return { level: { priority: entry.client.priority, flows: new Map(), active: [] }, flow: undefined };
    return { level, flow: level.flows.get(entry.client.key) };
  }

  private level(priority: number): Level<E> {
    let level = this.levels.find((l) => l.priority === priority);
    if (!level) {
      level = { priority, flows: new Map(), active: [] };
      const at = this.levels.findIndex((l) => l.priority < priority);
      this.levels.splice(at < 0 ? this.levels.length : at, 0, level);
    }
    return level;
  }
}
