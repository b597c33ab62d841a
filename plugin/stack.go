package mxsign

// Goroutine stacks for signing.
//
// miekg/dns serves each UDP query in a goroutine of its own, whose stack starts at a
// few kilobytes. Signing runs deep (crypto/ecdsa's field arithmetic), so the stack of
// every query that signs grew, two or three times, each time copied with its frames
// unwound and adjusted: some 8 % of the CPU time of a random-subdomain flood. growStack
// makes the stack big enough at once, while it is still shallow and cheap to copy.

// signStack is the stack a signature needs below the caller of growStack, with a
// margin: ECDSA P-256 through crypto/ecdsa needs about 5 KiB.
const signStack = 16 << 10

// growStack makes the calling goroutine's stack hold signStack more bytes: the runtime
// grows it in one step to fit this function's frame. The stack keeps that size when it
// returns (it shrinks only at a garbage collection, when mostly unused).
//
//go:noinline
func growStack(i int) byte {
	var b [signStack]byte
	b[i%signStack] = byte(i)
	return b[(i+1)%signStack]
}
