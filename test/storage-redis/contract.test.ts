/** The shared locker contract on a single server, a three-master cluster and a quorum of three servers. */
import { lockerSuite } from '../contract/locker-suite.js';
import { sharedRedis, startCluster, startRedisGroup, stopAll } from '../helpers/redis-servers.js';
import { LEASE, adapterPool, optionsOf, uniquePrefix } from './setup.js';

lockerSuite('redis single server', async () => {
  const server = await sharedRedis();
  const pool = adapterPool();
  const keyPrefix = uniquePrefix('single');
  return {
    leaseMs: LEASE,
    newLocker: () => pool.make({ ...optionsOf(server.url), keyPrefix, redlockTTL: LEASE }).locker,
    close: async () => {
      await pool.closeAll();
      await server.stop();
    },
  };
});

lockerSuite('redis cluster (three masters)', async () => {
  const cluster = await startCluster();
  const pool = adapterPool();
  const keyPrefix = uniquePrefix('cluster');
  return {
    leaseMs: LEASE,
    newLocker: () => pool.make({ nodes: cluster.nodes, keyPrefix, redlockTTL: LEASE }).locker,
    close: async () => {
      await pool.closeAll();
      await cluster.stop();
    },
  };
});

lockerSuite('redis quorum of three servers', async () => {
  const servers = await startRedisGroup(3);
  const pool = adapterPool();
  const keyPrefix = uniquePrefix('quorum');
  return {
    leaseMs: LEASE,
    newLocker: () => pool.make({ quorum: servers.map((s) => s.url), keyPrefix, redlockTTL: LEASE }).locker,
    close: async () => {
      await pool.closeAll();
      await stopAll(servers);
    },
  };
});
