#if canImport(Glibc)
import Glibc
import ModelCore
#endif

// OpenBLAS reads its kernel choice while loading; this may re-execute the process once.
BLASKernel.selectAndReexecIfNeeded()
// A write past the file size limit (ulimit -f) would otherwise kill the process without a word, in the
// middle of a checkpoint; ignored, the write fails with EFBIG and the error names the file.
signal(SIGXFSZ, SIG_IGN)
// ArgumentParser's main, with its error messages sanitised for the terminal (see TerminalOutput.swift).
SafeMain.run()
