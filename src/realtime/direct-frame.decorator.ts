import { applyDecorators, SetMetadata } from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA } from '@nestjs/common/constants';
import { SubscribeMessage } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import type { ClientFrameOf, ClientFrameType } from './client-frame.parser';
import type { EncodedFrame } from './server-frames';

const DIRECT_FRAME = Symbol('mealpulse.directFrame');

/** A gateway method MealPulseWsAdapter calls itself: the socket, the parsed frame, its answer. */
export type DirectFrameHandler<T extends ClientFrameType = ClientFrameType> = (
  socket: WebSocket,
  frame: ClientFrameOf<T>,
) => EncodedFrame | void;

/**
 * `@SubscribeMessage(type)` for a handler that needs nothing of Nest's per-message pipeline (no
 * guards, pipes or interceptors: the frame is already validated by the adapter's parser), so the
 * adapter calls the method itself, with `(socket, frame)`, and writes its answer in the same
 * turn. Nest's context creation per message was a third of a JSON ping's cost. The method keeps
 * its Nest parameter decorators, so the gateway still works behind any Nest adapter.
 */
export function DirectFrame<T extends ClientFrameType>(
  type: T,
): <M extends DirectFrameHandler<T>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void {
  return applyDecorators(SubscribeMessage(type), SetMetadata(DIRECT_FRAME, type));
}

/**
 * The gateway's @DirectFrame handlers by frame type, bound to it. A handler that also carries
 * guards, pipes or interceptors (on the method or the class) is refused at start-up: calling it
 * directly would skip them.
 */
export function directFrameHandlers(gateway: object): Map<string, DirectFrameHandler> {
  const handlers = new Map<string, DirectFrameHandler>();
  const prototype = Object.getPrototypeOf(gateway) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const method = prototype[name];
    if (typeof method !== 'function') continue;
    const type = Reflect.getMetadata(DIRECT_FRAME, method) as string | undefined;
    if (type === undefined) continue;
    for (const key of [GUARDS_METADATA, PIPES_METADATA, INTERCEPTORS_METADATA]) {
      const onMethod = Reflect.getMetadata(key, method) as unknown[] | undefined;
      const onClass = Reflect.getMetadata(key, gateway.constructor) as unknown[] | undefined;
      if (onMethod?.length || onClass?.length)
        throw new Error(`${gateway.constructor.name}.${name}: a @DirectFrame handler has ${key}`);
    }
    handlers.set(type, (method as DirectFrameHandler).bind(gateway));
  }
  return handlers;
}
