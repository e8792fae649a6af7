package lb

import "testing"

// A browser's GET and a typical answer, to measure the lean parser.
const (
	benchRequest = "GET /static/app.js?v=3 HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
		"Accept: */*\r\nAccept-Language: en-GB,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\nReferer: http://shop.example.com/\r\n" +
		"Cookie: session=0123456789abcdef; theme=dark\r\nConnection: keep-alive\r\nX-Forwarded-For: 203.0.113.9\r\nCache-Control: no-cache\r\n\r\n"
	benchResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: 5120\r\nDate: Sun, 29 Nov 2026 21:00:00 GMT\r\n" +
		"Cache-Control: max-age=3600\r\nETag: \"5f2a-1\"\r\nConnection: keep-alive\r\n\r\n"
)

func BenchmarkHeadParse(b *testing.B) {
	var h head
	req, resp := []byte(benchRequest), []byte(benchResponse)
	b.Run("request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.parse(req, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("response", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.parse(resp, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
