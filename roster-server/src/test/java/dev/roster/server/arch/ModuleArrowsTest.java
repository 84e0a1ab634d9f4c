package dev.roster.server.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.jspecify.annotations.NullMarked;

/**
 * The arrows between Roster's modules (decision B5): every arrow points toward the core; the core
 * depends on nothing of Roster's; the PostgreSQL and Redis adapters never see each other; the library
 * wires the two adapters; the server and its embedded stores sit on top. The server's test class path
 * holds every production module, so the rules see all of them here. Main classes only.
 */
@AnalyzeClasses(packages = "dev.roster", importOptions = ImportOption.DoNotIncludeTests.class)
class ModuleArrowsTest {
    static final String CORE = "dev.roster.core..";
    static final String POSTGRES = "dev.roster.postgres..";
    static final String REDIS = "dev.roster.redis..";
    /** The library's classes live in {@code dev.roster} itself, not below it. */
    static final String LIBRARY = "dev.roster";

    static final String EMBEDDED = "dev.roster.embedded..";
    static final String SERVER = "dev.roster.server..";
    static final String TESTKIT = "dev.roster.testkit..";
    static final String BENCH = "dev.roster.bench..";

    @ArchTest
    static final ArchRule core_depends_on_nothing_of_ours = noClasses()
            .that()
            .resideInAPackage(CORE)
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(POSTGRES, REDIS, LIBRARY, EMBEDDED, SERVER, TESTKIT, BENCH)
            .because("the core holds the domain and the ports; the adapters implement them");

    @ArchTest
    static final ArchRule postgres_never_sees_redis = noClasses()
            .that()
            .resideInAPackage(POSTGRES)
            .should()
            .dependOnClassesThat()
            .resideInAPackage(REDIS)
            .because("the two adapters meet only in the library's wiring");

    @ArchTest
    static final ArchRule redis_never_sees_postgres = noClasses()
            .that()
            .resideInAPackage(REDIS)
            .should()
            .dependOnClassesThat()
            .resideInAPackage(POSTGRES)
            .because("the two adapters meet only in the library's wiring");

    /** The whole graph: who may use whom. */
    @ArchTest
    static final ArchRule modules_point_toward_the_core = layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .layer("Core")
            .definedBy(CORE)
            .layer("Postgres")
            .definedBy(POSTGRES)
            .layer("Redis")
            .definedBy(REDIS)
            .layer("Library")
            .definedBy(LIBRARY)
            .layer("Embedded")
            .definedBy(EMBEDDED)
            .layer("Server")
            .definedBy(SERVER)
            .whereLayer("Server")
            .mayNotBeAccessedByAnyLayer()
            .whereLayer("Library")
            .mayOnlyBeAccessedByLayers("Server")
            .whereLayer("Postgres")
            .mayOnlyBeAccessedByLayers("Library", "Server")
            .whereLayer("Redis")
            .mayOnlyBeAccessedByLayers("Library", "Server")
            .whereLayer("Embedded")
            .mayOnlyBeAccessedByLayers("Server")
            .whereLayer("Core")
            .mayOnlyBeAccessedByLayers("Postgres", "Redis", "Library", "Server");

    /** Null as a value is declared in every package: NullAway reads the same annotation (decision B1). */
    @ArchTest
    static final ArchRule every_package_is_null_marked = classes()
            .that()
            .resideInAnyPackage(CORE, POSTGRES, REDIS, LIBRARY, EMBEDDED, SERVER, TESTKIT)
            .should(resideInANullMarkedPackage())
            .because("where null is a value the signature says @Nullable; everything else is non-null");

    private static ArchCondition<JavaClass> resideInANullMarkedPackage() {
        return new ArchCondition<>("reside in a package annotated @NullMarked") {
            @Override
            public void check(JavaClass c, ConditionEvents events) {
                if (!c.getPackage().isAnnotatedWith(NullMarked.class)) {
                    events.add(SimpleConditionEvent.violated(
                            c, c.getPackageName() + " has no package-info.java with @NullMarked"));
                }
            }
        };
    }
}
