/** Placeholder; see the module description. */
@NullMarked
package dev.affinity.jetty;

import org.jspecify.annotations.NullMarked;
