package region

import "context"

// CounterName is the change counter every write bumps that changes boundaries or validity;
// replicas poll it to know when to reload their index.
const CounterName = "regions"

// Store is what the region service keeps in the database; *store.Store implements it. Every
// method that writes regions runs in one transaction of its own and bumps the "regions"
// change counter in that same transaction, so the bump commits exactly with the change.
type Store interface {
	// RegionByCode returns one region with its boundary; NotFound when none.
	RegionByCode(ctx context.Context, code string) (Region, error)
	// RegionsByCodes returns the regions with these codes (those that exist), in code order.
	RegionsByCodes(ctx context.Context, codes []string, withBoundary bool) ([]Region, error)
	// ListRegions returns the regions that match f, in code order.
	ListRegions(ctx context.Context, f Filter) ([]Region, error)
	// ScanRegions calls fn with every region and its boundary, in no particular order.
	ScanRegions(ctx context.Context, fn func(Region) error) error
	// SaveRegions inserts creates (in the order given: parents first) and stores name,
	// boundary (with its extent, center and coord_sys), valid_from and valid_to of the
	// existing regions updates, all in one transaction, calling done after each region. It
	// sets IDs and times. Conflict when a created code exists.
	SaveRegions(ctx context.Context, creates, updates []*Region, done func()) error
	// UpdateRegion loads the region under a row lock, applies fn and saves what SaveRegions
	// saves; NotFound when none.
	UpdateRegion(ctx context.Context, code string, fn func(*Region) error) (Region, error)
	// Both: a region whose valid_to moves earlier (or is set) retires its subtree with it:
	// each descendant still valid then gets the same valid_to.
	// Counter reads a change counter.
	Counter(ctx context.Context, name string) (int64, error)

	// GridMembers lists a grid's team, active first, then by id.
	GridMembers(ctx context.Context, gridCode string) ([]Member, error)
	// CreateGridMember inserts m and sets its ID and time; Conflict when the user is on the
	// team already.
	CreateGridMember(ctx context.Context, m *Member) error
	// DeleteGridMember removes a member of the grid; NotFound when the grid has no such member.
	DeleteGridMember(ctx context.Context, gridCode string, id int64) error

	// GridResponsibilities lists a grid's responsibility list by category code.
	GridResponsibilities(ctx context.Context, gridCode string) ([]Responsibility, error)
	// ReplaceGridResponsibilities makes the list exactly items in one transaction, keeping
	// the creation time of categories already listed.
	ReplaceGridResponsibilities(ctx context.Context, gridCode string, items []Responsibility) ([]Responsibility, error)
	// MissingPeople returns those of the user and department IDs that do not exist.
	MissingPeople(ctx context.Context, userIDs, departmentIDs []int64) (users, departments []int64, err error)
}
