package dev.roster.server.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;

/**
 * The arrows between the core's packages as they stand (decision B6): no cycle among them (the root
 * package counts as one); the domain and the ports ({@code dev.roster.core} itself, {@code config},
 * {@code outbox}, {@code source}, {@code projection}, {@code status}) use none of the machinery that
 * runs on them; the wiring package {@code internal} is the core's own.
 */
@AnalyzeClasses(packages = "dev.roster", importOptions = ImportOption.DoNotIncludeTests.class)
class CorePackageArrowsTest {
    static final String[] DOMAIN_AND_PORTS = {
        "dev.roster.core",
        "dev.roster.core.config..",
        "dev.roster.core.outbox..",
        "dev.roster.core.source..",
        "dev.roster.core.projection..",
        "dev.roster.core.status.."
    };

    static final String[] MACHINERY = {
        "dev.roster.core.audit..",
        "dev.roster.core.internal..",
        "dev.roster.core.nearcache..",
        "dev.roster.core.pool..",
        "dev.roster.core.replay..",
        "dev.roster.core.selection..",
        "dev.roster.core.service..",
        "dev.roster.core.watch.."
    };

    /** One slice per first-level package of the core, and one for the root package. */
    static final SliceAssignment CORE_PACKAGES = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass c) {
            String p = c.getPackageName();
            if (p.equals("dev.roster.core")) {
                return SliceIdentifier.of("dev.roster.core");
            }
            if (p.startsWith("dev.roster.core.")) {
                String rest = p.substring("dev.roster.core.".length());
                int dot = rest.indexOf('.');
                return SliceIdentifier.of("dev.roster.core." + (dot < 0 ? rest : rest.substring(0, dot)));
            }
            return SliceIdentifier.ignore();
        }

        @Override
        public String getDescription() {
            return "the core's packages";
        }
    };

    @ArchTest
    static final ArchRule core_packages_are_free_of_cycles =
            slices().assignedFrom(CORE_PACKAGES).should().beFreeOfCycles();

    @ArchTest
    static final ArchRule domain_and_ports_use_no_machinery = noClasses()
            .that()
            .resideInAnyPackage(DOMAIN_AND_PORTS)
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(MACHINERY)
            .because("the ports are what the machinery and the adapters agree on; they know neither");

    @ArchTest
    static final ArchRule internal_is_the_cores_own = noClasses()
            .that()
            .resideOutsideOfPackage("dev.roster.core..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("dev.roster.core.internal..")
            .because("dev.roster.core.internal is not exported: it wires the core's packages together");
}
