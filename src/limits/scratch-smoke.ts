import { Redis } from 'ioredis';
import { RedisLimiter } from './redis-store.js';
const redis = new Redis('redis://127.0.0.1:6379');
const l = new RedisLimiter({ redis, prefix: 'floodgate:smoke' + process.pid });
const limits = { rpm: 3, tpm: 1000, concurrency: 2, daily_requests: 10, daily_tokens: 5000 };
for (let i = 0; i < 5; i++) { const d = await l.decide({ identity: 'ip:1', limits, estimatedTokens: 100 }); console.log(JSON.stringify({ ...d, admission: undefined })); }
console.log(await redis.hgetall(l.stateKey('ip:1')), await redis.pttl(l.stateKey('ip:1')), await redis.zrange(l.stateKey('ip:1') + ':c', 0, -1, 'WITHSCORES'));
const d = await l.decide({ identity: 'ip:2', limits, estimatedTokens: 2000 }); console.log(JSON.stringify(d));
await redis.del(l.stateKey('ip:1'), l.stateKey('ip:1') + ':c');
await l.close();
