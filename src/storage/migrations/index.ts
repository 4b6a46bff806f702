// The append-only list of schema migrations. Never edit or reorder an entry that has shipped:
// add a new one. Each runs once, in order, in its own transaction.
import { initial } from './001-initial.js';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [{ id: 1, name: 'initial', sql: initial }];
