// A static file server for dist/, used by scripts/test-browser.sh only when `dagsmith serve` does
// not exist yet: the validation tests need nothing but the page. /api/* answers 404 (JSON), as
// a server without those routes would. Prints the URL on stdout once listening.
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");

const root = path.resolve(process.argv[2] || "dist");
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname.startsWith("/api/")) {
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: { message: "no API on the static server", type: "not_found" } }));
    return;
  }
  let file = path.join(root, path.normalize(decodeURIComponent(url.pathname)));
  if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    file = path.join(root, "index.html"); // SPA fallback, like dagsmith serve
  }
  res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
server.listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${server.address().port}`);
});
