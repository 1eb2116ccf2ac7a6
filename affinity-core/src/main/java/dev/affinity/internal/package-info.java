/** Helpers shared across packages. Not API: anything here may change in any release. */
@NullMarked
package dev.affinity.internal;

import org.jspecify.annotations.NullMarked;
