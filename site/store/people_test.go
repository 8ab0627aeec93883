package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
)

func invite(t *testing.T, s *store.Store, email, token string) store.Invitation {
	t.Helper()
	inv, err := s.Invite(context.Background(), store.Invitation{Email: email, Society: "so", Role: store.RoleCaseworker}, token,
		func(id int64) store.InviteMail { return store.InviteMail{Invitation: id} })
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestInvitationOnce: an invitation opens one account, even to acceptances
// racing; a new invitation to the same address withdraws the old; a used,
// withdrawn or expired one opens nothing; the database refuses an
// invitation to administer everything; ended invitations are deleted
// after InvitationKeep.
func TestInvitationOnce(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	first := invite(t, s, "a@so.example", "t1")
	invite(t, s, "a@so.example", "t2")
	if _, _, err := s.AcceptInvitation(ctx, "t1", "h", "en"); !errors.Is(err, store.ErrInvitationUsed) {
		t.Errorf("a replaced invitation: %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, _, errs[i] = s.AcceptInvitation(ctx, "t2", "h", "so") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, store.ErrInvitationUsed) {
			t.Errorf("a racing acceptance: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d acceptances of one invitation succeeded", ok)
	}
	a, err := s.StaffByEmail(ctx, "a@so.example")
	if err != nil || a.Language != "so" || a.SocietyCode() != "so" {
		t.Errorf("the account: %+v %v", a, err)
	}
	if _, err := s.Invite(ctx, store.Invitation{Email: "a@so.example", Society: "so", Role: store.RoleCaseworker}, "t3",
		func(id int64) store.InviteMail { return store.InviteMail{} }); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("inviting an address with an account: %v", err)
	}
	invite(t, s, "late@so.example", "t4")
	if _, err := s.Pool().Exec(ctx, `UPDATE staff_invitations SET expires_at = now() WHERE email = 'late@so.example'`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AcceptInvitation(ctx, "t4", "h", "en"); !errors.Is(err, store.ErrInvitationExpired) {
		t.Errorf("an expired invitation: %v", err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO staff_invitations (token_hash, email, society, role, expires_at) VALUES ('x', 'b@so.example', 'so', 'admin', now())`); err == nil {
		t.Error("the database took an invitation to be a Movement administrator")
	}
	// Ended 91 days ago: deleted; the pending one stays.
	invite(t, s, "pending@so.example", "t5")
	if _, err := s.Pool().Exec(ctx, `UPDATE staff_invitations SET created_at = now() - interval '100 days', expires_at = now() - interval '97 days',
		accepted_at = CASE WHEN accepted_at IS NULL THEN NULL ELSE now() - interval '91 days' END,
		revoked_at = CASE WHEN revoked_at IS NULL THEN NULL ELSE now() - interval '91 days' END WHERE id <= $1 OR email = 'late@so.example'`, first.ID+1); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteOldInvitations(ctx); err != nil || n != 3 {
		t.Errorf("deleted %d old invitations, want 3: %v", n, err)
	}
	if left, _ := s.Invitations(ctx, "so", 10); len(left) != 1 || left[0].Email != "pending@so.example" {
		t.Errorf("left: %+v", left)
	}
}
