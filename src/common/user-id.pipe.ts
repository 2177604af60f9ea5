import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { textProblem, USER_ID_RULE } from './text';

/** A user id in a path (admin routes): what tokens may carry as `sub`, else 400 naming it. */
@Injectable()
export class UserIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const problem = textProblem(value, USER_ID_RULE);
    if (problem !== null) throw new BadRequestException(`userId ${problem}`);
    return value;
  }
}

/** OpenAPI description of a `:userId` path parameter that `UserIdPipe` reads. */
export function ApiUserIdParam(): MethodDecorator {
  return ApiParam({
    name: 'userId',
    description: 'A user id, as tokens carry it in sub',
    schema: { type: 'string', minLength: USER_ID_RULE.min, maxLength: USER_ID_RULE.max },
  });
}
