// The two engines a storage test runs against: PGlite in memory, and the machine's real
// PostgreSQL in a schema of its own (dropped afterwards), so runs never see each other's rows.
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';

export const POSTGRES_URL = process.env.FLOODGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  db: Database;
  /** Another connection to the same database (PostgreSQL only: PGlite is one process's). */
  another?: () => Promise<Database>;
  /** A URL that opens this database, schema included (PostgreSQL only). */
  url?: string;
  drop(): Promise<void>;
}

export const ENGINES = ['pglite', 'postgres'] as const;

export async function testDatabase(engine: (typeof ENGINES)[number]): Promise<TestDatabase> {
  if (engine === 'pglite') {
    const db = await openDatabase({ dataDir: 'memory://' });
    return { db, drop: () => db.close() };
  }
  const schema = `fg_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await openDatabase({ url: POSTGRES_URL, maxConnections: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const opened: Database[] = [];
  const open = async (): Promise<Database> => {
    const db = await openDatabase({ url, maxConnections: 4 });
    opened.push(db);
    return db;
  };
  const db = await open();
  return {
    db,
    another: open,
    url,
    async drop() {
      await Promise.all(opened.map((d) => d.close()));
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

/** What a suite from eachEngine sees: read inside tests, once before() has opened the database. */
export interface EngineSuite {
  readonly engine: (typeof ENGINES)[number];
  readonly db: Database;
  readonly test: TestDatabase;
}

/**
 * Declares `suite` once per engine, inside `describe('<title> on <engine>')`, over a freshly
 * migrated database of its own that is dropped afterwards.
 */
export function eachEngine(title: string, suite: (s: EngineSuite) => void): void {
  for (const engine of ENGINES) {
    describe(`${title} on ${engine}`, () => {
      let opened: TestDatabase | undefined;
      const s: EngineSuite = {
        engine,
        get db() {
          return s.test.db;
        },
        get test() {
          if (!opened) throw new Error('the database is opened in before(); read it inside tests');
          return opened;
        },
      };
      before(async () => {
        opened = await testDatabase(engine);
        await migrate(opened.db);
      });
      after(async () => opened?.drop());
      suite(s);
    });
  }
}
