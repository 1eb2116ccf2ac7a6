/** Placeholder; see the module description. */
@NullMarked
package dev.affinity.testkit;

import org.jspecify.annotations.NullMarked;
