// A small tus 1.0 client over Blob.slice: creation, HEAD to find the offset, PATCH in chunks.
// An upload's URL is remembered in localStorage under a fingerprint of the file, so choosing the same file
// again after a reload or a dropped connection resumes where the server says it stopped.
(function () {
  "use strict";
  const TUS = "1.0.0";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function base64(text) {
    const bytes = new TextEncoder().encode(text);
    let binary = "";
    bytes.forEach((b) => { binary += String.fromCharCode(b); });
    return btoa(binary);
  }

  function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

  class UploadError extends Error {
    constructor(message, final) { super(message); this.final = final; }
  }

  // One HTTP request; resolves with {status, headers, body} and never rejects on HTTP errors.
  function request(method, url, { headers = {}, body = null, onProgress = null } = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.withCredentials = true;
      xhr.setRequestHeader("Tus-Resumable", TUS);
      if (method !== "HEAD") xhr.setRequestHeader("X-CSRFToken", csrfToken());
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onload = () => resolve({ status: xhr.status, header: (n) => xhr.getResponseHeader(n), body: xhr.responseText });
      xhr.onerror = () => reject(new UploadError("the connection dropped", false));
      xhr.ontimeout = () => reject(new UploadError("the server did not answer in time", false));
      xhr.send(body);
    });
  }

  function messageOf(response) {
    try { return JSON.parse(response.body).error || `the server answered ${response.status}`; }
    catch (e) { return `the server answered ${response.status}`; }
  }

  // A refusal that retrying cannot fix (bad video, duplicate, too large, no permission); an offset
  // conflict (409 with final false) is not one: the client asks for the offset and goes on.
  function isFinal(response) {
    try { return Boolean(JSON.parse(response.body).final); } catch (e) { return response.status < 500; }
  }

  class TusUpload {
    constructor(file, options) {
      this.file = file;
      this.endpoint = options.endpoint;
      this.chunkSize = options.chunkSize || 8 * 1024 * 1024;
      this.onProgress = options.onProgress || (() => {});
      this.onStatus = options.onStatus || (() => {});
      this.offset = 0;
      this.url = null;
      this.aborted = false;
      this.fingerprint = ["tus", this.endpoint, file.name, file.size, file.lastModified].join("::");
    }

    async start() {
      this.url = localStorage.getItem(this.fingerprint);
      if (this.url) {
        const head = await request("HEAD", this.url);
        if (head.status === 200) {
          this.offset = parseInt(head.header("Upload-Offset"), 10);
          this.onStatus(this.offset > 0 ? "Resuming" : "Uploading");
        } else {
          this.forget();
        }
      }
      if (!this.url) await this.create();
      return this.sendChunks();
    }

    async create() {
      const response = await request("POST", this.endpoint, {
        headers: { "Upload-Length": String(this.file.size), "Upload-Metadata": `filename ${base64(this.file.name)},filetype ${base64(this.file.type || "")}` },
      });
      if (response.status !== 201) throw new UploadError(messageOf(response), true);
      this.url = new URL(response.header("Location"), window.location.href).toString();
      this.offset = 0;
      localStorage.setItem(this.fingerprint, this.url);
    }

    async sendChunks() {
      let failures = 0;
      for (;;) {
        if (this.aborted) throw new UploadError("cancelled", true);
        const end = Math.min(this.offset + this.chunkSize, this.file.size);
        let response;
        try {
          response = await request("PATCH", this.url, {
            headers: { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(this.offset) },
            body: this.file.slice(this.offset, end),
            onProgress: (loaded) => this.onProgress(this.offset + loaded, this.file.size),
          });
        } catch (err) {
          response = null;
        }
        if (response && response.status === 204) {
          failures = 0;
          this.offset = parseInt(response.header("Upload-Offset"), 10);
          this.onProgress(this.offset, this.file.size);
          if (this.offset >= this.file.size) {
            this.forget();
            return { videoUrl: response.header("Skerry-Video-Url") };
          }
          continue;
        }
        if (response && response.status < 500 && isFinal(response)) {
          this.forget();
          throw new UploadError(messageOf(response), true);
        }
        // A dropped connection, a server error or an offset conflict: wait, ask where we are, go on.
        failures += 1;
        if (failures > 8) throw new UploadError("the connection keeps failing; choose the file again to resume", false);
        this.onStatus(`Connection trouble, retrying (${failures})…`);
        await sleep(Math.min(30000, 500 * 2 ** failures));
        try {
          const head = await request("HEAD", this.url);
          if (head.status === 200) this.offset = parseInt(head.header("Upload-Offset"), 10);
          else if (head.status === 404 || head.status === 410) {
            this.forget();
            throw new UploadError(messageOf(head), true);
          }
        } catch (err) {
          if (err.final) throw err;
        }
      }
    }

    forget() { localStorage.removeItem(this.fingerprint); }

    abort() { this.aborted = true; }
  }

  window.SkerryTus = { TusUpload, UploadError };
})();
