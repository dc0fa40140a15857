package server

import (
	"errors"
	"net"
	"strings"

	"github.com/valyala/fasthttp"
)

func isBodyTooLarge(err error) bool { return errors.Is(err, fasthttp.ErrBodyTooLarge) }

func isSmallBuffer(err error) bool {
	var e *fasthttp.ErrSmallBuffer
	return errors.As(err, &e) || strings.Contains(err.Error(), "small read buffer")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
