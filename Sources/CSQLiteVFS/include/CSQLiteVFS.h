#ifndef RCM_CSQLITEVFS_H
#define RCM_CSQLITEVFS_H

/// The name of the VFS that `rcm_sqlite_vfs_register` adds.
#define RCM_SQLITE_VFS_NAME "rcm-unix-coalescing"

/// Registers (once; later calls return the first result) a VFS over SQLite's default one that
/// writes each WAL commit's frames with one write call instead of two per frame. Returns an
/// SQLite result code.
int rcm_sqlite_vfs_register(void);

/// Write calls made to WAL files through the VFS since the process started (for tests and
/// benchmarks): how many SQLite asked for, and how many reached the file system.
void rcm_sqlite_vfs_wal_writes(long long *requested, long long *issued);

/// Sets how many bytes of a statement or savepoint journal SQLite keeps in memory before it
/// moves it to a temporary file (`SQLITE_CONFIG_STMTJRNL_SPILL`; SQLite's default is 64 KiB).
/// Only takes effect before SQLite initializes: call it before opening any connection.
int rcm_sqlite_set_statement_journal_spill(int bytes);

#endif
