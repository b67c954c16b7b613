package ladder

import "time"

const hookWaitDelay = 5 * time.Second
