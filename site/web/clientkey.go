package web

import (
	"net/netip"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// ClientKey is what rate limits count a client under: its IPv4 address, or
// the /64 prefix of its IPv6 address ("2001:db8:1:2::/64"). An IPv6
// subscriber is usually given a whole /64 and can pick any address in it,
// so counting single IPv6 addresses would let one person multiply every
// limit by 2^64. c.IP() is the peer, or the X-Real-IP of a trusted proxy.
// The key is a client's address: it is for counting, never for storing as
// is (store.Hit keeps only a keyed hash of it).
func ClientKey(c *fiber.Ctx) string {
	return clientKey(c.IP())
}

func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		// Not an address (no trusted proxy header, an odd transport): count
		// it as given, copied since Fiber reuses the buffer.
		return utils.CopyString(ip)
	}
	a = a.Unmap() // an IPv4-mapped IPv6 address is an IPv4 client
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}
