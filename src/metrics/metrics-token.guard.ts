import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../auth/jwt-auth.guard';
import { AppConfig } from '../config/app-config';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * With METRICS_TOKEN set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>`; without it,
 * /metrics is open (a scraper on a private network). Compared as digests in constant time, so the
 * answer's timing says nothing about how much of a guess was right.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(config: AppConfig) {
    this.expected = config.metrics.token === null ? null : digest(config.metrics.token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null) return true;
    const given = bearerToken(
      context.switchToHttp().getRequest<FastifyRequest>().headers.authorization,
    );
    if (given === undefined || !timingSafeEqual(digest(given), this.expected)) {
      throw new UnauthorizedException('METRICS_TOKEN required');
    }
    return true;
  }
}
