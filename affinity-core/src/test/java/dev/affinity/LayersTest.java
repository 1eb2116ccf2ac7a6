package dev.affinity;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layers of affinity-core, checked on its compiled classes: no package cycle among its
 * packages, no server framework, and the router's plumbing used only by the root package.
 */
class LayersTest {
  private static JavaClasses core;

  @BeforeAll
  static void importCore() {
    core =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.affinity");
  }

  /** Each package under {@code dev.affinity} is a slice of its own; the root is left out. */
  private static final SliceAssignment SUBPACKAGES =
      new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass c) {
          String p = c.getPackageName();
          return p.startsWith("dev.affinity.")
              ? SliceIdentifier.of(p.substring("dev.affinity.".length()))
              : SliceIdentifier.ignore();
        }

        @Override
        public String getDescription() {
          return "the packages under dev.affinity";
        }
      };

  @Test
  void subpackages_haveNoCycles() {
    slices().assignedFrom(SUBPACKAGES).should().beFreeOfCycles().check(core);
  }

  @Test
  void core_importsNoServerFramework() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.netty..", "org.eclipse.jetty..", "jakarta.servlet..")
        .because("core knows no server framework")
        .check(core);
  }

  @Test
  void subpackages_useOnlyTheRootsValuesNeverTheRouter() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.affinity")
        .should()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.affinity.Router")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.affinity.Router$Builder")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.affinity.RouterCore")
        .because("strategies, lifecycle and metrics must not call back into the router")
        .check(core);
  }

  @Test
  void hashFunctions_dependOnNothingElseInAffinity() {
    noClasses()
        .that()
        .resideInAPackage("dev.affinity.hash..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.affinity",
            "dev.affinity.backend..",
            "dev.affinity.strategy..",
            "dev.affinity.client..",
            "dev.affinity.lifecycle..",
            "dev.affinity.metrics..")
        .check(core);
  }

  @Test
  void lifecycleHooks_usedOnlyByTheLifecycleAndTheRouter() {
    noClasses()
        .that()
        .resideOutsideOfPackages("dev.affinity", "dev.affinity.backend", "dev.affinity.lifecycle")
        .should()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.affinity.backend.LifecycleHooks")
        .check(core);
  }
}
