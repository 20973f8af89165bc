import Engine

// OpenBLAS reads its kernel choice while loading; this may re-execute the process once.
BLASKernel.selectAndReexecIfNeeded()
await Hellotune.main()
