package store

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Errors callers act on, so that nothing outside the store reads a driver
// error or its text.
var (
	// ErrUnavailable: PostgreSQL could not be reached or did not answer in
	// time (down, restarting, overloaded); the same request will work
	// again shortly.
	ErrUnavailable = errors.New("store: the database is unavailable")
	// ErrBadText: text PostgreSQL cannot hold (invalid UTF-8, a NUL byte).
	// It can only have come from the request.
	ErrBadText = errors.New("store: text the database cannot hold")
	// ErrDuplicateReference: a new enquiry's or gallery entry's random
	// reference is already taken; draw another.
	ErrDuplicateReference = errors.New("store: the reference is already taken")
)

// Classify returns err marked with the store error it amounts to, so that
// errors.Is(err, ErrUnavailable) and errors.Is(err, ErrBadText) answer;
// other errors come back unchanged.
func Classify(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnavailable), errors.Is(err, ErrBadText):
		return err
	case badText(err):
		return errors.Join(ErrBadText, err)
	case unavailable(err):
		return errors.Join(ErrUnavailable, err)
	}
	return err
}

// PostgreSQL error codes of text it refuses: character_not_in_repertoire
// (invalid UTF-8 or NUL in a text value) and untranslatable_character
// (\u0000 in JSON); and unique_violation.
const (
	pgInvalidText    = "22021"
	pgUntranslatable = "22P05"
	pgUnique         = "23505"
)

func badText(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == pgInvalidText || pe.Code == pgUntranslatable)
}

func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down or starting up.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// uniqueOn reports whether err is a unique violation of the named
// constraint.
func uniqueOn(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUnique && pe.ConstraintName == constraint
}
