import { Router, static as serveStatic } from 'express';
import { getAbsoluteFSPath } from 'swagger-ui-dist';

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Flash Sale Mesh API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body>
</html>`;

// A file of its own, not an inline script: the page keeps helmet's strict Content-Security-Policy.
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true });`;

/** `/docs`: a readable page of the OpenAPI document (Swagger UI, served from the package, no CDN). */
export function docsRouter(): Router {
  const router = Router();
  router.get('/docs', (_req, res) => void res.type('html').send(PAGE));
  router.get('/docs/init.js', (_req, res) => void res.type('js').send(INIT));
  router.use('/docs/assets', serveStatic(getAbsoluteFSPath(), { index: false, maxAge: '1h' }));
  return router;
}
