/** Placeholder; see the module description. */
@NullMarked
package dev.affinity.netty;

import org.jspecify.annotations.NullMarked;
