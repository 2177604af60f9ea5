/**
 * Reference 1: the practical upper bound for Node here. A bare `ws` server speaking MealPulse's
 * protocol on /ws (`serveSockets`) and nothing else. With REDIS_URL (and DATABASE_URL) it is one
 * of W7's two baseline instances (`ReferenceCluster`).
 */
import { createServer } from 'node:http';
import { answerProduceRequests } from './produce-requests';
import { ReferenceCluster } from './reference-cluster';
import { ReferenceSockets, serveSockets } from './reference-sockets';
import { referenceConfig, ReferenceClusterConfig } from './upgrade-auth';

const config = referenceConfig();
const server = createServer((_request, response) => response.writeHead(404).end());
const sockets = serveSockets(server, config);

/** With REDIS_URL (W7's baseline), instances deliver completions to each other through Redis. */
async function joinCluster(
  cluster: ReferenceClusterConfig,
  local: ReferenceSockets,
): Promise<void> {
  const joined = await ReferenceCluster.join(cluster, config.port, (userId, frame) =>
    local.deliver(userId, frame),
  );
  answerProduceRequests((request) => joined.produce(request));
}

(config.cluster ? joinCluster(config.cluster, sockets) : Promise.resolve())
  .then(() => server.listen(config.port, '127.0.0.1'))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
