package hub

import "context"

// OpenDBAtStep opens a hub database migrated to its first n steps only,
// for tests of a later step over older data.
func OpenDBAtStep(ctx context.Context, target, dataDir string, n int) (*DB, error) {
	db, err := openDB(ctx, target, dataDir)
	if err != nil {
		return nil, err
	}
	if err := db.migrateTo(ctx, n); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Exec runs a statement, for tests.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := db.exec(ctx, query, args...)
	return err
}
