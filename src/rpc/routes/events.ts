// subscribe / unsubscribe / unsubscribe_all over the websocket. Events for a subscription are
// pushed with the subscribe request's id, as CometBFT does (clients match on it), with
// `result.query`, `result.data` and `result.events`. A subscription the bus cancels (slow
// client, shutdown) ends with a JSON-RPC error on that id; a slow client is also disconnected.
import type { JsonObject } from '../../codec/index.js';
import { EventBusError, type NodeEvents } from '../../events/index.js';
import { errorResponse, invalidParams, RpcError, SERVER_ERROR } from '../jsonrpc.js';
import { serverError, type RpcEnv } from '../env.js';
import type { RpcMethod, WsSession } from '../server.js';

const clientId = (ws: WsSession): string => `ws#${ws.id}@${ws.remote}`;

function busError(e: unknown): never {
  if (e instanceof EventBusError) {
    if (e.code === 'invalid_query') throw invalidParams(e.message);
    throw serverError(e.message);
  }
  throw e;
}

export function eventRoutes(env: RpcEnv): Record<string, RpcMethod> {
  const cleanedUp = new WeakSet<WsSession>();
  const events = (): NodeEvents => {
    if (!env.events) throw serverError('this node does not publish events');
    return env.events;
  };
  const queryParam = (p: Parameters<RpcMethod['handler']>[0]): string => {
    const q = p.string('query');
    if (q === undefined) throw invalidParams('query: required');
    return q;
  };

  return {
    subscribe: {
      params: ['query'],
      wsOnly: true,
      handler: (p, ctx) => {
        const ws = ctx.ws!;
        const bus = events().bus;
        const query = queryParam(p);
        const id = ctx.id;
        try {
          bus.subscribe(clientId(ws), query, {
            deliver: (m) => {
              const result: JsonObject = { query, data: m.data(), events: m.events };
              ws.send({ jsonrpc: '2.0', id, result });
            },
            canceled: (reason) => {
              ws.send(errorResponse(id, new RpcError(SERVER_ERROR, `subscription was canceled (reason: ${reason})`)));
              if (reason.startsWith('slow client')) ws.close(1008, reason);
            },
          });
        } catch (e) {
          busError(e);
        }
        if (!cleanedUp.has(ws)) {
          cleanedUp.add(ws);
          ws.onClose(() => {
            if (bus.numClientSubscriptions(clientId(ws)) > 0) bus.unsubscribeAll(clientId(ws));
          });
        }
        return {};
      },
    },

    unsubscribe: {
      params: ['query'],
      wsOnly: true,
      handler: (p, ctx) => {
        try {
          events().bus.unsubscribe(clientId(ctx.ws!), queryParam(p));
        } catch (e) {
          busError(e);
        }
        return {};
      },
    },

    unsubscribe_all: {
      params: [],
      wsOnly: true,
      handler: (_p, ctx) => {
        try {
          events().bus.unsubscribeAll(clientId(ctx.ws!));
        } catch (e) {
          busError(e);
        }
        return {};
      },
    },
  };
}
