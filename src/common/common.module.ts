import { Global, Module } from '@nestjs/common';
import { ServiceInstance } from './service-instance';

@Global()
@Module({
  providers: [ServiceInstance],
  exports: [ServiceInstance],
})
export class CommonModule {}
