package transport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"sync"

	"github.com/valyala/fasthttp"
)

// Content codings. Every upstream request says Accept-Encoding:
// identity: without the header any coding is acceptable (RFC 9110
// section 12.5.3) and a server or CDN may gzip; a compressed LLM answer
// saves little (tokens arrive slower than any link) and would cost a
// decoder per stream. An upstream that compresses all the same is
// decoded here when it used gzip, so the client gets the plain answer
// (upstream Content-Encoding is never relayed); any other coding fails
// the attempt as a malformed answer rather than reaching the client as
// bytes it cannot read.

// acceptIdentity is sent on every upstream request.
const acceptIdentity = "identity"

// The header as bytes, its name already canonical: set without a copy
// or a conversion per request.
var acceptEncodingKey, acceptIdentityValue = []byte(fasthttp.HeaderAcceptEncoding), []byte(acceptIdentity)

// errUnsupportedEncoding is an answer in a content coding llmedge does
// not decode (br, zstd, deflate...) although it asked for identity.
var errUnsupportedEncoding = errors.New("content-encoding other than gzip")

// bodyDecoder reads a gzip-coded body through the exchange.
type bodyDecoder struct {
	x       *Exchange
	br      bufio.Reader // over x.readPlain: gzip would allocate its own
	zr      gzip.Reader
	started bool
}

var decoders = sync.Pool{New: func() any { return new(bodyDecoder) }}

// setDecoder prepares x to decode resp's body, or fails for a coding it
// cannot decode. Identity (no header) costs one header lookup.
func (x *Exchange) setDecoder(resp *fasthttp.Response) error {
	ce := resp.Header.ContentEncoding()
	if len(ce) == 0 || x.eof || bytes.EqualFold(ce, []byte(acceptIdentity)) {
		return nil
	}
	if !bytes.EqualFold(ce, []byte("gzip")) && !bytes.EqualFold(ce, []byte("x-gzip")) {
		return errUnsupportedEncoding
	}
	d := decoders.Get().(*bodyDecoder)
	d.x, d.started = x, false
	d.br.Reset(plainBody{x})
	x.dec = d
	return nil
}

// read returns decoded body bytes; the gzip header is read on the first
// call, under the exchange's read deadlines like any body read.
func (d *bodyDecoder) read(p []byte) (int, error) {
	if !d.started {
		if err := d.zr.Reset(&d.br); err != nil {
			return 0, d.fail(err)
		}
		d.started = true
	}
	n, err := d.zr.Read(p)
	if err != nil && err != io.EOF {
		return n, d.fail(err)
	}
	return n, err
}

func (d *bodyDecoder) fail(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the body ended inside the gzip header
	}
	d.x.failed = true
	return err
}

// free returns d to its pool.
func (d *bodyDecoder) free() {
	d.x = nil
	d.br.Reset(nil)
	decoders.Put(d)
}

// plainBody reads the exchange's body as it came (coded).
type plainBody struct{ x *Exchange }

func (b plainBody) Read(p []byte) (int, error) { return b.x.readPlain(p) }
