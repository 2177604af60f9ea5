import { Global, Module } from '@nestjs/common';
import { AdminGuard } from './admin.guard';
import { JwtAuthGuard } from './jwt-auth.guard';
import { TokenVerifier } from './token.verifier';

@Global()
@Module({
  providers: [TokenVerifier, JwtAuthGuard, AdminGuard],
  exports: [TokenVerifier, JwtAuthGuard, AdminGuard],
})
export class AuthModule {}
