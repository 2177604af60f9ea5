import 'reflect-metadata';
import { CanActivate, Injectable, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import type { WebSocket } from 'ws';
import type { ClientFrameOf } from './client-frame.parser';
import { DirectFrame, directFrameHandlers } from './direct-frame.decorator';
import { encodeFrame } from './server-frames';

@Injectable()
class AllowAll implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

const socket = {} as WebSocket;

class Plain {
  readonly seen: unknown[] = [];

  @DirectFrame('ping')
  ping() {
    return encodeFrame('pong', { ts: 1 });
  }

  @DirectFrame('ack')
  ack(client: WebSocket, frame: ClientFrameOf<'ack'>): void {
    this.seen.push([client, frame.seq, this instanceof Plain]);
  }

  notAHandler(): void {}
}

describe('directFrameHandlers', () => {
  it('binds each @DirectFrame method to the gateway under its frame type', () => {
    const gateway = new Plain();
    const handlers = directFrameHandlers(gateway);
    expect([...handlers.keys()].sort()).toEqual(['ack', 'ping']);
    expect(handlers.get('ping')!(socket, { type: 'ping' })).toEqual({
      type: 'pong',
      text: '{"type":"pong","ts":1}',
    });
    handlers.get('ack')!(socket, { type: 'ack', seq: 7 });
    expect(gateway.seen).toEqual([[socket, 7, true]]);
  });

  it.each([
    ['a guard', UseGuards(AllowAll)],
    ['a pipe', UsePipes({ transform: (value: unknown) => value })],
    ['an interceptor', UseInterceptors({ intercept: (_c: unknown, next: never) => next })],
  ])('refuses a handler with %s on the method or on the class', (_what, decorator) => {
    class OnMethod {
      @DirectFrame('ping')
      @decorator
      ping(): void {}
    }
    @decorator
    class OnClass {
      @DirectFrame('ping')
      ping(): void {}
    }
    expect(() => directFrameHandlers(new OnMethod())).toThrow(/OnMethod\.ping/);
    expect(() => directFrameHandlers(new OnClass())).toThrow(/OnClass\.ping/);
  });
});
