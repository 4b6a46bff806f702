// The order in which waiting requests get upstream budget: strict priority between tiers (a
// higher priority is always served first), and within one priority deficit round robin over
// clients, by tokens (Shreedhar & Varghese, 1995), in the form FQ-CoDel uses (RFC 8290). Each turn
// adds `quantum` tokens to a client's credit, and the client is served while its credit is
// positive, so one client with a hundred queued requests cannot starve ten clients with one each,
// and a client of big requests is not starved by clients of small ones: a request bigger than
// the credit still goes, and the debt it leaves skips the client's next turns.
//
// As in FQ-CoDel, a client that starts waiting is served before the clients already in the round:
// a light client, whose one request arrives while a heavy client's backlog waits, gets the next
// budget that frees instead of waiting behind a turn of that backlog. It has one turn there; then
// it joins the round like everyone else. A client whose queue empties during that first turn
// stays in the round (empty) until its place comes up, so a client cannot stay "new" forever by
// sending one request at a time as fast as they are served.
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
  /** Tokens it may still send this turn; served while positive, so it may end a turn in debt. */
  deficit: number;
  /** In the level's `fresh` list (its first turn) rather than the round. */
  fresh: boolean;
}

interface Level<E> {
  priority: number;
  /** Every flow, including those left empty in the round until their place comes up. */
  flows: Map<string, Flow<E>>;
  /** Flows that started waiting and have not had their first turn: served before the round. */
  fresh: Array<Flow<E>>;
  /** The round, in round-robin order; the first one's turn is now. */
  round: Array<Flow<E>>;
}

export class FairQueue<E extends Queued> {
  /** Highest priority first. */
  private readonly levels: Array<Level<E>> = [];
  private count = 0;

  constructor(private readonly quantum: number) {}

  get size(): number {
    return this.count;
  }

  /** Requests of one client waiting (a client has one tier, so one level holds them all). */
  sizeOf(clientKey: string): number {
    for (const level of this.levels) {
      const flow = level.flows.get(clientKey);
      if (flow) return flow.entries.length;
    }
    return 0;
  }

  push(entry: E): void {
    const level = this.level(entry.client.priority);
    let flow = level.flows.get(entry.client.key);
    if (!flow) {
      flow = { key: entry.client.key, entries: [], deficit: this.quantum, fresh: true };
      level.flows.set(flow.key, flow);
      level.fresh.push(flow);
    }
    flow.entries.push(entry);
    this.count += 1;
  }

  /** The request to serve next, left in place. */
  peek(): E | undefined {
    for (let i = 0; i < this.levels.length; ) {
      const level = this.levels[i]!;
      const head = this.peekLevel(level);
      if (head) return head;
      // Only flows left empty were in it: they are gone now, and so is the level.
      this.levels.splice(i, 1);
    }
    return undefined;
  }

  /** Takes off the request `peek` returned, spending its cost from its client's turn. */
  shift(entry: E): void {
    const { level, flow } = this.find(entry);
    if (!flow || flow.entries[0] !== entry) throw new Error('FairQueue.shift: not the request at the front');
    flow.deficit -= entry.cost;
    flow.entries.shift();
    this.counted(level, flow);
  }

  /** Takes a request out wherever it is (its client left, its deadline passed); false if absent. */
  remove(entry: E): boolean {
    const { level, flow } = this.find(entry);
    const index = flow ? flow.entries.indexOf(entry) : -1;
    if (!flow || index < 0) return false;
    flow.entries.splice(index, 1);
    this.counted(level, flow);
    return true;
  }

  /**
   * What will be served before a new request of `client`, whatever its cost: everything at higher
   * priorities, then at its own priority the clients in their first turn and, when the client
   * already waits (so the request is not served in a first turn of its own), its own queue and
   * what each client in the round sends in the turns until the request's.
   */
  ahead(client: QueueClient): { requests: number; tokens: number } {
    let requests = 0;
    let tokens = 0;
    /** Counts what a flow sends from `credit`: while it is positive, the last request overdrawing it. */
    const take = (flow: Flow<E>, credit: number): void => {
      for (const e of flow.entries) {
        if (credit <= 0) break;
        credit -= e.cost;
        requests += 1;
        tokens += e.cost;
      }
    };
    for (const level of this.levels) {
      if (level.priority < client.priority) break;
      if (level.priority > client.priority) {
        for (const flow of level.flows.values()) take(flow, Infinity);
        continue;
      }
      const own = level.flows.get(client.key);
      // The turns of the round before the request's: none for a client new to the queue.
      const ownCost = own?.entries.reduce((sum, e) => sum + e.cost, 0) ?? 0;
      const rounds = own ? Math.max(1, Math.floor((ownCost - own.deficit) / this.quantum) + 1) : 0;
      for (const flow of level.fresh) if (flow !== own) take(flow, flow.deficit + rounds * this.quantum);
      if (!own) continue;
      take(own, Infinity);
      for (const flow of level.round) if (flow !== own) take(flow, flow.deficit + rounds * this.quantum);
    }
    return { requests, tokens };
  }

  private peekLevel(level: Level<E>): E | undefined {
    let passed = 0;
    for (;;) {
      const list = level.fresh.length > 0 ? level.fresh : level.round;
      const flow = list[0];
      if (!flow) return undefined;
      if (flow.entries.length === 0) {
        // Left empty after its first turn: its place in the round has come up, so it goes.
        list.shift();
        level.flows.delete(flow.key);
        continue;
      }
      if (flow.deficit > 0) return flow.entries[0];
      // Its turn is over: the next one's quantum, and to the end of the round.
      list.shift();
      flow.fresh = false;
      flow.deficit += this.quantum;
      level.round.push(flow);
      if (list !== level.round) continue;
      passed += 1;
      if (passed >= level.round.length) {
        // A whole round served nobody (every client is still paying off a big request): skip the
        // rounds in which still nobody could be served, instead of looping through them.
        const waiting = level.round.filter((f) => f.entries.length > 0);
        const rounds = Math.min(...waiting.map((f) => Math.floor(-f.deficit / this.quantum)));
        if (rounds > 0) for (const f of waiting) f.deficit += rounds * this.quantum;
        passed = 0;
      }
    }
  }

  private counted(level: Level<E>, flow: Flow<E>): void {
    this.count -= 1;
    if (flow.entries.length > 0) return;
    // An emptied client keeps its place until the scheduler reaches it, as in FQ-CoDel: one
    // emptied in its first turn goes to the end of the round, so a request it sends next waits
    // its turn there instead of being new again; one in the round keeps its debt until then.
    if (!flow.fresh) return;
    level.fresh.splice(level.fresh.indexOf(flow), 1);
    flow.fresh = false;
    level.round.push(flow);
  }

  private find(entry: E): { level: Level<E>; flow: Flow<E> | undefined } {
    const level = this.levels.find((l) => l.priority === entry.client.priority);
    if (!level) return { level: { priority: entry.client.priority, flows: new Map(), fresh: [], round: [] }, flow: undefined };
    return { level, flow: level.flows.get(entry.client.key) };
  }

  private level(priority: number): Level<E> {
    let level = this.levels.find((l) => l.priority === priority);
    if (!level) {
      level = { priority, flows: new Map(), fresh: [], round: [] };
      const at = this.levels.findIndex((l) => l.priority < priority);
      this.levels.splice(at < 0 ? this.levels.length : at, 0, level);
    }
    return level;
  }
}
