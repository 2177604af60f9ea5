import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { AuthenticatedRequest } from './jwt-auth.guard';

/** Runs after JwtAuthGuard: the `admin` role unlocks /api/v1/admin, anyone else gets 403. */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { user } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!user.roles.includes('admin')) throw new ForbiddenException('Admin role required');
    return true;
  }
}
