package mxsign

import "testing"

func TestIsResponse(t *testing.T) {
	resp := []byte{0x12, 0x34, 0x84, 0x03, 0, 1, 0, 0, 0, 1, 0, 1}
	query := []byte{0x12, 0x34, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1}
	tests := []struct {
		name string
		wire []byte
		id   uint16
		want bool
	}{
		{"a response with the query's id", resp, 0x1234, true},
		{"the query's own bytes (QR clear)", query, 0x1234, false},
		{"another id", resp, 0x1235, false},
		{"short", resp[:11], 0x1234, false},
	}
	for _, tt := range tests {
		if got := isResponse(tt.wire, tt.id); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
