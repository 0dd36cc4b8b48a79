/* caches.h - guest images and run directories but the newest N of each */
#pragma once

/* Removes all but the newest keep_images guest images and keep_runs run
 * directories (never one younger than a minute, or a day for a run's: it may
 * be going); returns how many went, *failed counts what could not. */
unsigned caches_prune(unsigned keep_images, unsigned keep_runs, unsigned *failed);
