package chat

import (
	"bytes"
	"embed"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// The socket.io browser client is a pinned, unmodified copy of
// dist/socket.io.min.js from the npm registry tarball of socket.io-client
// 4.8.4 (https://registry.npmjs.org/socket.io-client/-/socket.io-client-4.8.4.tgz,
// tarball sha1 98865b4b55abe0658f4bff5ca3ed583fbd0fc945), so that the page
// works without Internet access. Its MIT licence is
// web/socket.io-client.LICENSE.
//
// To update it: npm pack socket.io-client@4.8.x, extract package/dist/
// socket.io.min.js into web/, and update the version and sha256 here (the
// test TestBundledClientPinned checks the sha256).
const (
	// ClientVersion is the version of the bundled socket.io browser client.
	ClientVersion = "4.8.4"
	// ClientSHA256 is the sha256 of web/socket.io.min.js.
	ClientSHA256 = "d5d79a35039e860b32bdef4795528b05c2f788d4b2d9dacc913120e2878f7b3f"
)

//go:embed web/index.html web/socket.io.min.js web/socket.io-client.LICENSE
var webFS embed.FS

var pageTmpl = template.Must(template.ParseFS(webFS, "web/index.html"))

// started is the Last-Modified of the embedded assets: they change only with
// the binary.
var started = time.Now()

func (h *Host) servePage(w http.ResponseWriter, _ *http.Request) {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, map[string]any{"Host": h.cfg.Name, "ClientVersion": ClientVersion}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// assetHandler serves web/ under /assets/ (the socket.io client and its
// licence).
func assetHandler() http.Handler {
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err)
	}
	return http.StripPrefix("/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "index.html" || r.URL.Path == "" {
			http.NotFound(w, r)
			return
		}
		f, err := sub.Open(r.URL.Path)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		rs, ok := f.(io.ReadSeeker)
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		if strings.HasSuffix(r.URL.Path, ".js") {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		http.ServeContent(w, r, r.URL.Path, started, rs)
	}))
}
