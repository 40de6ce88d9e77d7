package sgx

import "syscall"

const populate = syscall.MAP_POPULATE
