import {
  applyDecorators,
  Controller,
  Get,
  Header,
  NotFoundException,
  Param,
  ServiceUnavailableException,
  StreamableFile,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AdminPageAssets, PageAsset } from './admin-page.assets';

/**
 * Scripts, styles and requests only from this origin, nothing inline, no frames: meal text, user
 * agents and device ids on the page are attacker-controlled, and are rendered as text anyway.
 */
export const ADMIN_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** On the page's answers (an error answer is the exception filter's JSON, with none of them). */
function PageHeaders(cacheControl: string): MethodDecorator {
  return applyDecorators(
    Header('Content-Security-Policy', ADMIN_PAGE_CSP),
    Header('X-Frame-Options', 'DENY'),
    Header('X-Content-Type-Options', 'nosniff'),
    Header('Referrer-Policy', 'no-referrer'),
    Header('Cache-Control', cacheControl),
  );
}

function file(asset: PageAsset): StreamableFile {
  return new StreamableFile(asset.body, { type: asset.type, length: asset.body.length });
}

/**
 * The admin console (a static page that asks for an admin token and calls the admin API). The
 * page itself is public: it holds no data, and every call it makes needs the admin role.
 */
@ApiExcludeController()
@Controller('admin')
export class AdminPageController {
  constructor(private readonly assets: AdminPageAssets) {}

  @Get()
  @PageHeaders('no-cache')
  page(): StreamableFile {
    const page = this.assets.get('index.html');
    if (page === undefined)
      throw new ServiceUnavailableException('The admin console is not built: run npm run build');
    return file(page);
  }

  /** The build names assets by content hash, so they never change under their name. */
  @Get('assets/:name')
  @PageHeaders('public, max-age=31536000, immutable')
  asset(@Param('name') name: string): StreamableFile {
    const asset = this.assets.get(`assets/${name}`);
    if (asset === undefined) throw new NotFoundException('No such asset');
    return file(asset);
  }
}
