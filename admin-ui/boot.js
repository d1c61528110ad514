// Loads the admin UI's WebAssembly module (wasm-bindgen's generated loader); the module's
// start function mounts the app. An external file, so the Content-Security-Policy needs no
// inline script.
import init from './tracewire_admin.js';

init().catch((e) => {
  document.body.textContent = `The admin UI failed to start: ${e}`;
});
