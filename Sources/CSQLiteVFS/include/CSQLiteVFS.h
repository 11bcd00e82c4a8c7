#ifndef RCM_CSQLITEVFS_H
#define RCM_CSQLITEVFS_H

/// The name of the VFS that `rcm_sqlite_vfs_register` adds.
#define RCM_SQLITE_VFS_NAME "rcm-unix-coalescing"

/// Registers (once; later calls return the first result) a VFS over SQLite's default one that
/// writes each WAL commit's frames with one write call instead of two per frame. Returns an
/// SQLite result code: SQLITE_NOTFOUND when the SQLite library's version is outside the range
/// whose WAL writing the VFS was checked against (3.37-3.49).
int rcm_sqlite_vfs_register(void);

/// Write calls made to WAL files through the VFS since the process started (for tests and
/// benchmarks): how many SQLite asked for, and how many reached the file system.
void rcm_sqlite_vfs_wal_writes(long long *requested, long long *issued);

/// Process-wide SQLite settings; only take effect before SQLite initializes, so call this before
/// opening any connection. Sets how many bytes of a statement or savepoint journal SQLite keeps in
/// memory before moving it to a temporary file (`SQLITE_CONFIG_STMTJRNL_SPILL`; SQLite's default
/// is 64 KiB), and turns off SQLite's memory statistics (`SQLITE_CONFIG_MEMSTATUS`), which take a
/// process-wide mutex around every allocation SQLite makes. Returns an SQLite result code.
int rcm_sqlite_configure(int statementJournalSpillBytes);

#endif
