/*
 * A VFS over SQLite's default (unix) VFS that coalesces the writes of WAL frames.
 *
 * SQLite writes each WAL frame with two calls: its 24-byte header, then the page. A commit of
 * N pages is 2N pwrite calls, each touching one or two page-cache pages of the WAL file; on these
 * machines that was ~10% of an invoice's CPU. Here a WAL file's frames are gathered in a buffer
 * and written with one call when the commit frame (the one whose header carries the database
 * size) is complete, or earlier when anything else happens to the file.
 *
 * Why this is safe: readers (other connections, the checkpointer) only read frames up to the
 * WAL index's mxFrame, which SQLite publishes after all of a commit's frames are written, and
 * the buffer is written out when the commit frame's page arrives, before SQLite returns from
 * writing the frames. Only a frame appended at the end of the previous write starts or extends
 * the buffer: the frame headers SQLite rewrites in place (a transaction that spilled pages and
 * changed them again has its checksums rewritten, header by header, the commit frame's last)
 * go straight through, so no header waits for a page that will not come. Every other operation
 * on the WAL file (read, sync, truncate, size, close) and every write that does not continue the
 * pattern header-then-page at the buffered end writes the buffer out first, then goes through
 * unchanged; a future SQLite writing frames differently only makes the VFS write through. When
 * writing the buffer out fails in a read, the error is reported as an I/O error (not, say,
 * SQLITE_FULL), so that SQLite abandons the whole transaction rather than one statement.
 * Frames buffered and never written are those of a transaction that did not commit (a crash
 * mid-commit, or a rollback: SQLite rolls back without touching the WAL, and the stale frames,
 * written later past the committed end, are ignored by recovery as the default VFS's are).
 * Only WAL files are wrapped; the database and journal files are the default VFS's own objects.
 * One process writes the databases (the platform); other processes may read them.
 */
#include "CSQLiteVFS.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum {
    FRAME_HEADER = 24,
    /* The default VFS writes at most 0x1ffff bytes a call (its seekAndWrite masks the length:
       SQLite itself never writes more than 128 KiB at once), so the buffer is written out before
       it would pass that: a commit of more pages than fit takes a few calls. */
    WRITE_LIMIT = 0x1ffff,
};

typedef struct WalFile {
    sqlite3_file base; /* methods: walMethods */
    sqlite3_file *real; /* the default VFS's file object, allocated right after this struct */
    unsigned char *buffer;
    int length; /* bytes buffered */
    int capacity;
    sqlite3_int64 start; /* file offset of buffer[0] */
    int expectPage; /* a frame header is buffered: the next write should be its page */
    int commitFrame; /* that header is a commit frame's */
    sqlite3_int64 end; /* where the previous write ended (-1: none yet) */
    int pageSize; /* of the last page buffered (0: none yet, assume the largest) */
} WalFile;

static sqlite3_vfs coalescingVfs;
static sqlite3_vfs *defaultVfs;
static sqlite3_io_methods walMethods;
static pthread_once_t registration = PTHREAD_ONCE_INIT;
static int registrationResult = SQLITE_ERROR;
static atomic_llong requestedWrites;
static atomic_llong issuedWrites;

static int flush(WalFile *file) {
    int length = file->length;
    file->length = 0;
    file->expectPage = 0;
    for (int done = 0; done < length;) {
        int amount = length - done < WRITE_LIMIT ? length - done : WRITE_LIMIT;
        atomic_fetch_add_explicit(&issuedWrites, 1, memory_order_relaxed);
        int rc = file->real->pMethods->xWrite(file->real, file->buffer + done, amount, file->start + done);
        if (rc != SQLITE_OK) return rc;
        done += amount;
    }
    return SQLITE_OK;
}

static int reserve(WalFile *file, int more) {
    if (file->length + more <= file->capacity) return 1;
    int capacity = file->capacity ? file->capacity : 64 * 1024;
    while (capacity < file->length + more) capacity *= 2;
    unsigned char *grown = realloc(file->buffer, (size_t)capacity);
    if (!grown) return 0;
    file->buffer = grown;
    file->capacity = capacity;
    return 1;
}

static int writeThrough(WalFile *file, const void *data, int amount, sqlite3_int64 offset) {
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    atomic_fetch_add_explicit(&issuedWrites, 1, memory_order_relaxed);
    return file->real->pMethods->xWrite(file->real, data, amount, offset);
}

static int walWrite(sqlite3_file *base, const void *data, int amount, sqlite3_int64 offset) {
    WalFile *file = (WalFile *)base;
    atomic_fetch_add_explicit(&requestedWrites, 1, memory_order_relaxed);
    int continues = file->length > 0 && offset == file->start + file->length;
    int appends = offset == file->end; /* not a rewrite of an earlier frame's header */
    file->end = offset + amount;
    if (amount == FRAME_HEADER && !file->expectPage && (continues || (file->length == 0 && appends))) {
        /* Room for this frame in one write call (its page the size of the last one, or the
           largest SQLite has), or write out first; a larger page still goes out in calls of at
           most WRITE_LIMIT bytes (flush). */
        if (file->length + FRAME_HEADER + (file->pageSize ? file->pageSize : 65536) > WRITE_LIMIT) {
            int rc = flush(file);
            if (rc != SQLITE_OK) return rc;
        }
        if (!reserve(file, FRAME_HEADER + 65536)) return writeThrough(file, data, amount, offset);
        if (file->length == 0) file->start = offset;
        memcpy(file->buffer + file->length, data, FRAME_HEADER);
        file->length += FRAME_HEADER;
        const unsigned char *header = data;
        /* Bytes 4-7: the database size in pages after a commit; zero in other frames. */
        file->commitFrame = (header[4] | header[5] | header[6] | header[7]) != 0;
        file->expectPage = 1;
        return SQLITE_OK;
    }
    if (file->expectPage && continues && amount >= 512 && amount <= 65536) {
        if (!reserve(file, amount)) return writeThrough(file, data, amount, offset);
        memcpy(file->buffer + file->length, data, (size_t)amount);
        file->length += amount;
        file->expectPage = 0;
        file->pageSize = amount;
        if (file->commitFrame) return flush(file);
        return SQLITE_OK;
    }
    return writeThrough(file, data, amount, offset);
}

/* A failure to write the buffer out, reported by an operation other than a write: always an I/O
   error, which makes SQLite abandon the transaction (SQLITE_FULL from a read would undo only
   the statement, leaving the transaction open over frames that were never written). */
static int flushError(int rc) { return (rc & 0xff) == SQLITE_IOERR ? rc : SQLITE_IOERR_WRITE; }

/* Every other method writes the buffer out first, then asks the default VFS's file object. */
#define FLUSHED(call)                                                                              \
    do {                                                                                           \
        WalFile *file = (WalFile *)base;                                                           \
        int rc = flush(file);                                                                      \
        if (rc != SQLITE_OK) return flushError(rc);                                                \
        return call;                                                                               \
    } while (0)
#define REAL (((WalFile *)base)->real)

static int walClose(sqlite3_file *base) {
    WalFile *file = (WalFile *)base;
    int flushed = flush(file);
    int closed = file->real->pMethods->xClose(file->real);
    free(file->buffer);
    file->buffer = NULL;
    file->capacity = 0;
    return flushed != SQLITE_OK ? flushError(flushed) : closed;
}
static int walRead(sqlite3_file *base, void *data, int amount, sqlite3_int64 offset) {
    FLUSHED(REAL->pMethods->xRead(REAL, data, amount, offset));
}
static int walTruncate(sqlite3_file *base, sqlite3_int64 size) { FLUSHED(REAL->pMethods->xTruncate(REAL, size)); }
static int walSync(sqlite3_file *base, int flags) { FLUSHED(REAL->pMethods->xSync(REAL, flags)); }
static int walFileSize(sqlite3_file *base, sqlite3_int64 *size) { FLUSHED(REAL->pMethods->xFileSize(REAL, size)); }
static int walLock(sqlite3_file *base, int level) { FLUSHED(REAL->pMethods->xLock(REAL, level)); }
static int walUnlock(sqlite3_file *base, int level) { FLUSHED(REAL->pMethods->xUnlock(REAL, level)); }
static int walCheckReservedLock(sqlite3_file *base, int *out) {
    FLUSHED(REAL->pMethods->xCheckReservedLock(REAL, out));
}
static int walFileControl(sqlite3_file *base, int op, void *arg) {
    FLUSHED(REAL->pMethods->xFileControl(REAL, op, arg));
}
static int walSectorSize(sqlite3_file *base) { return REAL->pMethods->xSectorSize(REAL); }
static int walDeviceCharacteristics(sqlite3_file *base) { return REAL->pMethods->xDeviceCharacteristics(REAL); }
static int walShmMap(sqlite3_file *base, int region, int size, int extend, void volatile **out) {
    FLUSHED(REAL->pMethods->xShmMap(REAL, region, size, extend, out));
}
static int walShmLock(sqlite3_file *base, int offset, int n, int flags) {
    FLUSHED(REAL->pMethods->xShmLock(REAL, offset, n, flags));
}
static void walShmBarrier(sqlite3_file *base) {
    flush((WalFile *)base);
    REAL->pMethods->xShmBarrier(REAL);
}
static int walShmUnmap(sqlite3_file *base, int deleteFlag) { FLUSHED(REAL->pMethods->xShmUnmap(REAL, deleteFlag)); }
static int walFetch(sqlite3_file *base, sqlite3_int64 offset, int amount, void **out) {
    FLUSHED(REAL->pMethods->xFetch(REAL, offset, amount, out));
}
static int walUnfetch(sqlite3_file *base, sqlite3_int64 offset, void *pointer) {
    FLUSHED(REAL->pMethods->xUnfetch(REAL, offset, pointer));
}

static int coalescingOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *base, int flags, int *outFlags) {
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL)) {
        /* Not a WAL file: the default VFS's object itself, in the space SQLite gave us. */
        return defaultVfs->xOpen(defaultVfs, name, base, flags, outFlags);
    }
    WalFile *file = (WalFile *)base;
    memset(file, 0, sizeof(WalFile));
    file->end = -1;
    file->real = (sqlite3_file *)(file + 1);
    int rc = defaultVfs->xOpen(defaultVfs, name, file->real, flags, outFlags);
    if (rc != SQLITE_OK || file->real->pMethods == NULL) {
        /* SQLite calls xClose only when pMethods is set: leave it NULL, closing what opened. */
        if (file->real->pMethods) file->real->pMethods->xClose(file->real);
        file->base.pMethods = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    file->base.pMethods = &walMethods;
    return SQLITE_OK;
}

/* The rest is the default VFS's. */
static int coalescingDelete(sqlite3_vfs *v, const char *name, int syncDir) {
    (void)v;
    return defaultVfs->xDelete(defaultVfs, name, syncDir);
}
static int coalescingAccess(sqlite3_vfs *v, const char *name, int flags, int *out) {
    (void)v;
    return defaultVfs->xAccess(defaultVfs, name, flags, out);
}
static int coalescingFullPathname(sqlite3_vfs *v, const char *name, int size, char *out) {
    (void)v;
    return defaultVfs->xFullPathname(defaultVfs, name, size, out);
}
static void *coalescingDlOpen(sqlite3_vfs *v, const char *name) {
    (void)v;
    return defaultVfs->xDlOpen(defaultVfs, name);
}
static void coalescingDlError(sqlite3_vfs *v, int size, char *out) {
    (void)v;
    defaultVfs->xDlError(defaultVfs, size, out);
}
static void (*coalescingDlSym(sqlite3_vfs *v, void *handle, const char *symbol))(void) {
    (void)v;
    return defaultVfs->xDlSym(defaultVfs, handle, symbol);
}
static void coalescingDlClose(sqlite3_vfs *v, void *handle) {
    (void)v;
    defaultVfs->xDlClose(defaultVfs, handle);
}
static int coalescingRandomness(sqlite3_vfs *v, int size, char *out) {
    (void)v;
    return defaultVfs->xRandomness(defaultVfs, size, out);
}
static int coalescingSleep(sqlite3_vfs *v, int microseconds) {
    (void)v;
    return defaultVfs->xSleep(defaultVfs, microseconds);
}
static int coalescingCurrentTime(sqlite3_vfs *v, double *out) {
    (void)v;
    return defaultVfs->xCurrentTime(defaultVfs, out);
}
static int coalescingGetLastError(sqlite3_vfs *v, int size, char *out) {
    (void)v;
    return defaultVfs->xGetLastError ? defaultVfs->xGetLastError(defaultVfs, size, out) : 0;
}
static int coalescingCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *out) {
    (void)v;
    return defaultVfs->xCurrentTimeInt64(defaultVfs, out);
}

/* The SQLite versions whose WAL writing this was checked against (3.40's wal.c; the frame
   format and walWriteOneFrame/walRewriteChecksums are the same from 3.37 to 3.49). Outside it
   the VFS is not registered and connections use SQLite's default VFS. */
enum { OLDEST_CHECKED = 3037000, NEWEST_CHECKED = 3049999 };

static void registerOnce(void) {
    int version = sqlite3_libversion_number();
    if (version < OLDEST_CHECKED || version > NEWEST_CHECKED) {
        registrationResult = SQLITE_NOTFOUND;
        return;
    }
    defaultVfs = sqlite3_vfs_find(NULL);
    if (!defaultVfs || defaultVfs->iVersion < 2) {
        registrationResult = SQLITE_ERROR;
        return;
    }
    /* Version 3 like the default VFS's files (xShm*, xFetch); SQLite sends those calls to the
       database file, never to a WAL file, and these delegate them all the same. */
    walMethods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = walClose,
        .xRead = walRead,
        .xWrite = walWrite,
        .xTruncate = walTruncate,
        .xSync = walSync,
        .xFileSize = walFileSize,
        .xLock = walLock,
        .xUnlock = walUnlock,
        .xCheckReservedLock = walCheckReservedLock,
        .xFileControl = walFileControl,
        .xSectorSize = walSectorSize,
        .xDeviceCharacteristics = walDeviceCharacteristics,
        .xShmMap = walShmMap,
        .xShmLock = walShmLock,
        .xShmBarrier = walShmBarrier,
        .xShmUnmap = walShmUnmap,
        .xFetch = walFetch,
        .xUnfetch = walUnfetch,
    };
    coalescingVfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(WalFile) + defaultVfs->szOsFile,
        .mxPathname = defaultVfs->mxPathname,
        .zName = RCM_SQLITE_VFS_NAME,
        .xOpen = coalescingOpen,
        .xDelete = coalescingDelete,
        .xAccess = coalescingAccess,
        .xFullPathname = coalescingFullPathname,
        .xDlOpen = coalescingDlOpen,
        .xDlError = coalescingDlError,
        .xDlSym = coalescingDlSym,
        .xDlClose = coalescingDlClose,
        .xRandomness = coalescingRandomness,
        .xSleep = coalescingSleep,
        .xCurrentTime = coalescingCurrentTime,
        .xGetLastError = coalescingGetLastError,
        .xCurrentTimeInt64 = coalescingCurrentTimeInt64,
    };
    registrationResult = sqlite3_vfs_register(&coalescingVfs, 0);
}

int rcm_sqlite_vfs_register(void) {
    pthread_once(&registration, registerOnce);
    return registrationResult;
}

void rcm_sqlite_vfs_wal_writes(long long *requested, long long *issued) {
    if (requested) *requested = atomic_load(&requestedWrites);
    if (issued) *issued = atomic_load(&issuedWrites);
}

int rcm_sqlite_configure(int statementJournalSpillBytes) {
    int rc = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, statementJournalSpillBytes);
    int memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return rc != SQLITE_OK ? rc : memstatus;
}
